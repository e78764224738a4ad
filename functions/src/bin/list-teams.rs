//! `list-teams`: see `orgs_functions::handlers::teams::list_teams`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::list_teams);
