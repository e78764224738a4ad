//! `list-my-invitations`: see `orgs_functions::handlers::invitee::list_my_invitations`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitee::list_my_invitations);
