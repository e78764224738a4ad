//! `add-domain`: see `orgs_functions::handlers::domains::add_domain`.
orgs_functions::lambda_main!(orgs_functions::handlers::domains::add_domain);
