//! `list-team-members`: see `orgs_functions::handlers::teams::list_team_members`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::list_team_members);
