//! `join-org`: see `orgs_functions::handlers::joining::join_org`.
orgs_functions::lambda_main!(orgs_functions::handlers::joining::join_org);
