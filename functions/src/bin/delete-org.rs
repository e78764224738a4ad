//! `delete-org`: see `orgs_functions::handlers::orgs::delete_org`.
orgs_functions::lambda_main!(orgs_functions::handlers::orgs::delete_org);
