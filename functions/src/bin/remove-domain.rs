//! `remove-domain`: see `orgs_functions::handlers::domains::remove_domain`.
orgs_functions::lambda_main!(orgs_functions::handlers::domains::remove_domain);
