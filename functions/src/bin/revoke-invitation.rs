//! `revoke-invitation`: see `orgs_functions::handlers::invitations::revoke_invitation`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitations::revoke_invitation);
