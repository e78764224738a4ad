//! `list-invitations`: see `orgs_functions::handlers::invitations::list_invitations`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitations::list_invitations);
