//! `withdraw-join-request`: see `orgs_functions::handlers::join_requests::withdraw_join_request`.
orgs_functions::lambda_main!(orgs_functions::handlers::join_requests::withdraw_join_request);
