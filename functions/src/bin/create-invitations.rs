//! `create-invitations`: see `orgs_functions::handlers::invitations::create_invitations`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitations::create_invitations);
