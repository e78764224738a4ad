//! `lookup-invitation`: see `orgs_functions::handlers::invitee::lookup_invitation`.
orgs_functions::lambda_main!(orgs_functions::handlers::invitee::lookup_invitation);
