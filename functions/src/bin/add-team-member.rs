//! `add-team-member`: see `orgs_functions::handlers::teams::add_team_member`.
orgs_functions::lambda_main!(orgs_functions::handlers::teams::add_team_member);
