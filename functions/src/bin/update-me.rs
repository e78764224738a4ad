//! `update-me`: see `orgs_functions::handlers::me::update_me`.
orgs_functions::lambda_main!(orgs_functions::handlers::me::update_me);
