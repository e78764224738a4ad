//! `deny-join-request`: see `orgs_functions::handlers::join_requests::deny_join_request`.
orgs_functions::lambda_main!(orgs_functions::handlers::join_requests::deny_join_request);
