//! `update-domain`: see `orgs_functions::handlers::domains::update_domain`.
orgs_functions::lambda_main!(orgs_functions::handlers::domains::update_domain);
