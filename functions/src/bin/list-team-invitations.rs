//! `list-team-invitations`: see `orgs_functions::handlers::teams::list_team_invitations`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::list_team_invitations);
