//! `get-domain`: see `orgs_functions::handlers::domains::get_domain`.
orgs_functions::lambda_main!(orgs_functions::handlers::domains::get_domain);
