//! `get-join-request`: see `orgs_functions::handlers::join_requests::get_join_request`.
//! Written from the catalog: UPDATE_INFRA=1 cargo test --locked -p orgs-functions --lib spec rewrites it.
orgs_functions::lambda_main!(orgs_functions::handlers::join_requests::get_join_request, needs JoinRequestsManage);
