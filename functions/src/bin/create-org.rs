//! `create-org`: see `orgs_functions::handlers::orgs::create_org`.
orgs_functions::lambda_main!(orgs_functions::handlers::orgs::create_org);
