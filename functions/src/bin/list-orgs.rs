//! `list-orgs`: see `orgs_functions::handlers::orgs::list_orgs`.
orgs_functions::lambda_main!(orgs_functions::handlers::orgs::list_orgs);
