//! `get-org`: see `orgs_functions::handlers::orgs::get_org`.
orgs_functions::lambda_main!(orgs_functions::handlers::orgs::get_org);
