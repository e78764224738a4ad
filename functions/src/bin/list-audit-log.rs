//! `list-audit-log`: see `orgs_functions::handlers::audit::list_audit_log`.
orgs_functions::lambda_main!(orgs_functions::handlers::audit::list_audit_log);
