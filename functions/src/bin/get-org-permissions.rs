//! `get-org-permissions`: see `orgs_functions::handlers::permissions::get_org_permissions`.
//! Written from the catalog: UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec rewrites it.
orgs_functions::lambda_main!(orgs_functions::handlers::permissions::get_org_permissions, needs OrgRead);
