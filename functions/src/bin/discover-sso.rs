//! `discover-sso`: see `orgs_functions::handlers::sso::discover_sso`.
//! Written from the catalog: UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec rewrites it.
orgs_functions::lambda_main!(orgs_functions::handlers::sso::discover_sso);
