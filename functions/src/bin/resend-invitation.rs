//! `resend-invitation`: see `orgs_functions::handlers::invitations::resend_invitation`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitations::resend_invitation);
