//! `list-join-requests`: see `orgs_functions::handlers::join_requests::list_join_requests`.
orgs_functions::lambda_main!(orgs_functions::handlers::join_requests::list_join_requests);
