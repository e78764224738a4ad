//! `get-me`: see `orgs_functions::handlers::me::get_me`.
orgs_functions::lambda_main!(orgs_functions::handlers::me::get_me);
