//! `transfer-ownership`: see `orgs_functions::handlers::members::transfer_ownership`.
orgs_functions::lambda_main!(orgs_functions::handlers::members::transfer_ownership);
