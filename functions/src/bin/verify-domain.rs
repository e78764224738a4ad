//! `verify-domain`: see `orgs_functions::handlers::domains::verify_domain`.
orgs_functions::lambda_main!(orgs_functions::handlers::domains::verify_domain);
