//! `approve-join-request`: see `orgs_functions::handlers::join_requests::approve_join_request`.
orgs_functions::lambda_main!(orgs_functions::handlers::join_requests::approve_join_request);
