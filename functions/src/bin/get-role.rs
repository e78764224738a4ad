//! `get-role`: see `orgs_functions::handlers::roles::get_role`.
//! Written from the catalog: UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec rewrites it.
orgs_functions::lambda_main!(orgs_functions::handlers::roles::get_role, needs OrgRead);
