//! `update-org`: see `orgs_functions::handlers::orgs::update_org`.
orgs_functions::lambda_main!(orgs_functions::handlers::orgs::update_org);
