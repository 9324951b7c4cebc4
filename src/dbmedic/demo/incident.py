"""The seed incident's application (see :mod:`dbmedic.demo.spec` for the story and the types)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache

from dbmedic.demo.spec import (
    ID,
    AddColumn,
    AddIndex,
    AppSpec,
    CreateTable,
    MigrationSpec,
    Step,
    TableSpec,
    c,
    fk,
    generated,
    table,
)


# --- the application ---------------------------------------------------------------------------
def _early() -> list[tuple[str, tuple[Step, ...]]]:
    """(name, steps) of the migrations that ran on staging before the failure."""
    t = table
    policy_original = t(
        "policy_configurations",
        fk("companies"),
        c("policy_type", "string(64)", index=True),
        c("config", "json"),
        c("is_default", "bool", default="0"),
        c("is_active", "bool", default="1"),
    )
    return [
        (
            "create_users_table",
            (
                CreateTable(
                    t(
                        "users",
                        c("name", "string(255)"),
                        c("email", "string(191)", unique=True),
                        c("email_verified_at", "timestamp", nullable=True),
                        c("password", "string(255)"),
                        c("remember_token", "string(100)", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_password_reset_tokens_table",
            (
                CreateTable(
                    TableSpec(
                        "password_reset_tokens",
                        (
                            c("email", "string(191)", index=True),
                            c("token", "string(255)"),
                            c("created_at", "timestamp", nullable=True),
                        ),
                    )
                ),
            ),
        ),
        (
            "create_sessions_table",
            (
                CreateTable(
                    TableSpec(
                        "sessions",
                        (
                            ID,
                            fk("users", nullable=True),
                            c("ip_address", "string(45)", nullable=True),
                            c("user_agent", "text", nullable=True),
                            c("payload", "text"),
                            c("last_activity", "int", index=True),
                        ),
                    )
                ),
            ),
        ),
        (
            "create_cache_table",
            (
                CreateTable(
                    TableSpec(
                        "cache",
                        (
                            ID,
                            c("key", "string(191)", unique=True),
                            c("value", "text"),
                            c("expiration", "int"),
                        ),
                    )
                ),
                CreateTable(
                    TableSpec(
                        "cache_locks",
                        (
                            ID,
                            c("key", "string(191)", unique=True),
                            c("owner", "string(191)"),
                            c("expiration", "int"),
                        ),
                    )
                ),
            ),
        ),
        (
            "create_jobs_table",
            (
                CreateTable(
                    TableSpec(
                        "jobs",
                        (
                            ID,
                            c("queue", "string(191)", index=True),
                            c("payload", "text"),
                            c("attempts", "int", default="0"),
                            c("available_at", "int"),
                            c("created_at", "int"),
                        ),
                    )
                ),
                CreateTable(
                    TableSpec(
                        "job_batches",
                        (
                            ID,
                            c("name", "string(255)"),
                            c("total_jobs", "int"),
                            c("pending_jobs", "int"),
                            c("failed_jobs", "int"),
                            c("options", "text", nullable=True),
                            c("created_at", "int"),
                        ),
                    )
                ),
            ),
        ),
        (
            "create_failed_jobs_table",
            (
                CreateTable(
                    t(
                        "failed_jobs",
                        c("uuid", "uuid", unique=True),
                        c("connection", "text"),
                        c("queue", "text"),
                        c("payload", "text"),
                        c("exception", "text"),
                        timestamps=False,
                    )
                ),
            ),
        ),
        (
            "create_personal_access_tokens_table",
            (
                CreateTable(
                    t(
                        "personal_access_tokens",
                        c("tokenable_type", "string(191)"),
                        c("tokenable_id", "bigint", index=True),
                        c("name", "string(255)"),
                        c("token", "string(64)", unique=True),
                        c("abilities", "text", nullable=True),
                        c("last_used_at", "timestamp", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_companies_table",
            (
                CreateTable(
                    t(
                        "companies",
                        c("name", "string(255)"),
                        c("slug", "string(191)", unique=True),
                        c("email", "string(191)", nullable=True),
                        c("phone", "string(32)", nullable=True),
                        c("timezone", "string(64)", default="'Europe/Berlin'"),
                        c("is_active", "bool", default="1"),
                    )
                ),
            ),
        ),
        (
            "create_branches_table",
            (
                CreateTable(
                    t(
                        "branches",
                        fk("companies"),
                        c("name", "string(255)"),
                        c("city", "string(128)", nullable=True),
                        c("phone", "string(32)", nullable=True),
                        c("is_active", "bool", default="1"),
                    )
                ),
            ),
        ),
        (
            "create_staff_table",
            (
                CreateTable(
                    t(
                        "staff",
                        fk("companies"),
                        fk("branches", nullable=True),
                        c("name", "string(255)"),
                        c("email", "string(191)", nullable=True),
                        c("is_bookable", "bool", default="1"),
                    )
                ),
            ),
        ),
        (
            "create_services_table",
            (
                CreateTable(
                    t(
                        "services",
                        fk("companies"),
                        c("name", "string(255)"),
                        c("duration_minutes", "int", default="30"),
                        c("price", "decimal(10,2)", nullable=True),
                        c("is_active", "bool", default="1"),
                    )
                ),
            ),
        ),
        (
            "create_customers_table",
            (
                CreateTable(
                    t(
                        "customers",
                        fk("companies"),
                        c("name", "string(255)"),
                        c("email", "string(191)", nullable=True, index=True),
                        c("phone", "string(32)", nullable=True, index=True),
                        c("notes", "text", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_appointments_table",
            (
                CreateTable(
                    t(
                        "appointments",
                        fk("companies"),
                        fk("branches"),
                        fk("customers"),
                        fk("staff", "staff_id", nullable=True),
                        fk("services"),
                        c("starts_at", "timestamp"),
                        c("ends_at", "timestamp"),
                        c("status", "string(32)", default="'scheduled'", index=True),
                        c("notes", "text", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_calendars_table",
            (
                CreateTable(
                    t(
                        "calendars",
                        fk("companies"),
                        fk("staff", "staff_id"),
                        c("provider", "string(32)"),
                        c("external_id", "string(191)", nullable=True),
                        c("sync_token", "text", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_working_hours_table",
            (
                CreateTable(
                    t(
                        "working_hours",
                        fk("staff", "staff_id"),
                        c("weekday", "int"),
                        c("opens_at", "string(5)"),
                        c("closes_at", "string(5)"),
                    )
                ),
            ),
        ),
        (
            "create_permission_tables",
            tuple(
                CreateTable(x)
                for x in (
                    t("permissions", c("name", "string(125)"), c("guard_name", "string(125)")),
                    t("roles", c("name", "string(125)"), c("guard_name", "string(125)")),
                    TableSpec(
                        "model_has_permissions",
                        (
                            ID,
                            fk("permissions"),
                            c("model_type", "string(191)"),
                            c("model_id", "bigint", index=True),
                        ),
                    ),
                    TableSpec(
                        "model_has_roles",
                        (
                            ID,
                            fk("roles"),
                            c("model_type", "string(191)"),
                            c("model_id", "bigint", index=True),
                        ),
                    ),
                    TableSpec("role_has_permissions", (ID, fk("permissions"), fk("roles"))),
                )
            ),
        ),
        (
            "create_phone_numbers_table",
            (
                CreateTable(
                    t(
                        "phone_numbers",
                        fk("companies"),
                        fk("branches", nullable=True),
                        c("number", "string(32)", unique=True),
                        c("provider", "string(32)"),
                        c("is_active", "bool", default="1"),
                    )
                ),
            ),
        ),
        ("create_calls_table", (CreateTable(generated("calls", "customers")),)),
        (
            "create_invoices_table",
            (
                CreateTable(
                    t(
                        "invoices",
                        fk("companies"),
                        fk("customers", nullable=True),
                        c("number", "string(64)", unique=True),
                        c("total", "decimal(12,2)", default="0"),
                        c("currency", "string(3)", default="'EUR'"),
                        c("issued_at", "date", nullable=True),
                        c("status", "string(32)", default="'draft'", index=True),
                    )
                ),
            ),
        ),
        (
            "create_invoice_items_table",
            (CreateTable(generated("invoice_items", "invoices", company=False)),),
        ),
        (
            "create_payments_table",
            (
                CreateTable(
                    t(
                        "payments",
                        fk("invoices"),
                        c("amount", "decimal(12,2)"),
                        c("method", "string(32)"),
                        c("paid_at", "timestamp", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_notifications_table",
            (
                CreateTable(
                    t(
                        "notifications",
                        c("type", "string(191)"),
                        c("notifiable_type", "string(191)"),
                        c("notifiable_id", "bigint", index=True),
                        c("data", "text"),
                        c("read_at", "timestamp", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_activity_log_table",
            (
                CreateTable(
                    t(
                        "activity_log",
                        c("log_name", "string(191)", nullable=True, index=True),
                        c("description", "text"),
                        c("subject_type", "string(191)", nullable=True),
                        c("subject_id", "bigint", nullable=True),
                        c("properties", "json", nullable=True),
                    )
                ),
            ),
        ),
        ("add_company_id_to_users_table", (AddColumn("users", fk("companies", nullable=True)),)),
        ("create_settings_table", (CreateTable(generated("settings", None)),)),
        (
            "create_tenants_table",
            (
                CreateTable(
                    t(
                        "tenants",
                        c("name", "string(255)"),
                        c("domain", "string(191)", unique=True),
                        c("plan", "string(32)", default="'basic'"),
                    )
                ),
            ),
        ),
        (
            "create_integrations_table",
            (
                CreateTable(
                    t(
                        "integrations",
                        fk("companies"),
                        c("provider", "string(64)", index=True),
                        c("credentials", "text", nullable=True),
                        c("is_active", "bool", default="1"),
                    )
                ),
            ),
        ),
        ("create_webhooks_table", (CreateTable(generated("webhooks", "integrations")),)),
        (
            "create_webhook_logs_table",
            (CreateTable(generated("webhook_logs", "webhooks", company=False)),),
        ),
        (
            "create_api_keys_table",
            (
                CreateTable(
                    t(
                        "api_keys",
                        fk("companies"),
                        c("name", "string(255)"),
                        c("key_hash", "string(128)", unique=True),
                        c("last_used_at", "timestamp", nullable=True),
                    )
                ),
            ),
        ),
        (
            "add_deleted_at_to_appointments_table",
            (AddColumn("appointments", c("deleted_at", "timestamp", nullable=True)),),
        ),
        (
            "create_media_table",
            (
                CreateTable(
                    t(
                        "media",
                        c("model_type", "string(191)"),
                        c("model_id", "bigint", index=True),
                        c("collection_name", "string(191)"),
                        c("file_name", "string(255)"),
                        c("mime_type", "string(128)", nullable=True),
                        c("size", "bigint", default="0"),
                    )
                ),
            ),
        ),
        (
            "create_tags_table",
            (
                CreateTable(
                    t("tags", c("name", "string(191)"), c("slug", "string(191)", unique=True))
                ),
            ),
        ),
        (
            "create_taggables_table",
            (
                CreateTable(
                    TableSpec(
                        "taggables",
                        (
                            ID,
                            fk("tags"),
                            c("taggable_type", "string(191)"),
                            c("taggable_id", "bigint", index=True),
                        ),
                    )
                ),
            ),
        ),
        (
            "create_customer_notes_table",
            (
                CreateTable(
                    t(
                        "customer_notes",
                        fk("customers"),
                        fk("users", nullable=True),
                        c("body", "text"),
                    )
                ),
            ),
        ),
        (
            "add_timezone_to_branches_table",
            (AddColumn("branches", c("timezone", "string(64)", nullable=True, after="phone")),),
        ),
        (
            "create_appointment_reminders_table",
            (
                CreateTable(
                    t(
                        "appointment_reminders",
                        fk("appointments"),
                        c("channel", "string(16)"),
                        c("send_at", "timestamp"),
                        c("sent_at", "timestamp", nullable=True),
                    )
                ),
            ),
        ),
        (
            "create_service_staff_table",
            (
                CreateTable(
                    TableSpec("service_staff", (ID, fk("services"), fk("staff", "staff_id")))
                ),
            ),
        ),
        (
            "create_branch_service_table",
            (CreateTable(TableSpec("branch_service", (ID, fk("branches"), fk("services")))),),
        ),
        ("create_policy_configurations_table", (CreateTable(policy_original),)),
        (
            "add_index_on_appointments_starts_at",
            (AddIndex("appointments", ("company_id", "starts_at")),),
        ),
        (
            "create_system_settings_table",
            (
                CreateTable(
                    t(
                        "system_settings",
                        c("key", "string(191)", unique=True),
                        c("value", "text", nullable=True),
                    )
                ),
            ),
        ),
        ("create_audit_logs_table", (CreateTable(generated("audit_logs", "users")),)),
        (
            "create_feature_flags_table",
            (
                CreateTable(
                    t(
                        "feature_flags",
                        c("name", "string(191)", unique=True),
                        c("enabled", "bool", default="0"),
                        c("rollout_percent", "int", default="0"),
                    )
                ),
            ),
        ),
        ("create_teams_table", (CreateTable(generated("teams", None)),)),
        (
            "add_color_to_services_table",
            (AddColumn("services", c("color", "string(7)", nullable=True)),),
        ),
        (
            "add_phone_verified_at_to_customers_table",
            (AddColumn("customers", c("phone_verified_at", "timestamp", nullable=True)),),
        ),
    ]


_FAMILIES: tuple[tuple[str, str, str], ...] = (
    # (migration name, root table, the family's other tables): one migration each
    (
        "create_retell_tables",
        "retell_agents",
        "retell_call_sessions retell_call_events retell_transcript_segments retell_function_calls retell_webhook_events retell_phone_numbers retell_llms retell_voices retell_agent_versions retell_call_analyses retell_errors",
    ),
    (
        "create_conversation_flow_tables",
        "conversation_flows",
        "conversation_flow_nodes conversation_flow_edges",
    ),
    (
        "create_data_consistency_tables",
        "data_flow_logs",
        "data_consistency_checks data_consistency_alerts",
    ),
)
_LATER_PREFIXES: tuple[tuple[str, str], ...] = (
    # (prefix, tables of the family after the prefix; the first is the family's parent)
    (
        "notification",
        "channels templates preferences deliveries queues digests rules schedules batches logs subscriptions suppressions events providers metrics attachments",
    ),
    (
        "calcom",
        "event_types bookings hosts users teams webhooks sync_logs availability_slots schedules events booking_attendees",
    ),
    (
        "test",
        "suites cases runs results fixtures environments artifacts logs metrics settings snapshots",
    ),
    (
        "customer_portal",
        "users sessions invitations preferences audit_logs feedback documents messages settings",
    ),
    (
        "ai",
        "prompts prompt_versions completions embeddings models usage_logs evaluations datasets runs results feedback",
    ),
    (
        "billing",
        "plans subscriptions usage_records credits transactions discounts tax_rates items events logs invoices",
    ),
    (
        "analytics",
        "dashboards widgets reports report_runs metrics dimensions snapshots exports events",
    ),
    ("crm", "leads contacts deals pipelines stages activities tasks notes templates"),
    ("sms", "messages templates providers deliveries opt_outs logs"),
    ("email", "messages templates campaigns recipients bounces events logs"),
    ("whatsapp", "accounts conversations messages templates webhooks events"),
    ("voice", "recordings transcriptions sentiments keywords metrics sessions"),
    (
        "security",
        "login_attempts blocked_ips two_factor_codes trusted_devices password_histories events logs",
    ),
    ("gdpr", "requests consents exports deletions logs"),
    ("import", "jobs mappings rows errors logs"),
    ("export", "jobs files templates logs"),
    ("marketing", "campaigns segments audiences events metrics templates"),
    ("staff", "absences shifts skills certifications performance_metrics time_entries settings"),
    (
        "appointment",
        "series waitlist_entries cancellations feedback modifications policies events logs",
    ),
    ("service", "categories addons packages prices requirements versions"),
    ("system", "health_checks alerts incidents maintenance_windows metrics logs events jobs"),
    ("knowledge_base", "articles categories versions feedback searches"),
    ("kpi", "definitions values targets alerts snapshots"),
)
FAILING_ID = "2025_10_23_162250_add_priority_to_policy_configurations"
_LATER_ALTERS = (
    (
        "add_retell_agent_id_to_phone_numbers_table",
        AddColumn("phone_numbers", fk("retell_agents", nullable=True)),
    ),
    (
        "add_conversation_flow_id_to_retell_agents_table",
        AddColumn("retell_agents", fk("conversation_flows", nullable=True)),
    ),
    ("add_index_on_calls_created_at", AddIndex("calls", ("company_id", "created_at"))),
    (
        "add_external_id_to_customers_table",
        AddColumn("customers", c("external_id", "string(191)", nullable=True, index=True)),
    ),
    (
        "add_source_to_appointments_table",
        AddColumn("appointments", c("source", "string(32)", default="'phone'")),
    ),
    (
        "add_index_on_notification_deliveries_company_status",
        AddIndex("notification_deliveries", ("company_id", "status")),
    ),
)
LATER_MIGRATIONS = 137
"""Migrations after the failing one (the seed's "remaining 137 migrations")."""


def _later() -> list[tuple[str, tuple[Step, ...]]]:
    units: list[list[tuple[str, TableSpec]]] = []
    for migration, root, others in _FAMILIES:
        family = [(migration, generated(root, None))]
        family += [(migration, generated(name, root)) for name in others.split()]
        units.append(family)
    for prefix, names in _LATER_PREFIXES:
        suffixes = names.split()
        root = f"{prefix}_{suffixes[0]}"
        units.append([(f"create_{root}_table", generated(root, None))])
        for suffix in suffixes[1:]:
            name = f"{prefix}_{suffix}"
            units.append([(f"create_{name}_table", generated(name, root))])
    # Merge neighbouring single-table migrations of one family until the count is the seed's.
    target = LATER_MIGRATIONS - len(_LATER_ALTERS)
    i = len(units) - 1
    while len(units) > target and i > 0:
        a, b = units[i - 1], units[i]
        same_family = a[-1][1].name.split("_")[0] == b[0][1].name.split("_")[0]
        if same_family and len(a) + len(b) <= 3 and len(a) == 1:
            merged_name = f"create_{a[0][1].name}_and_{b[0][1].name}_tables"
            units[i - 1 : i + 1] = [[(merged_name, t) for _, t in a + b]]
        i -= 1
    steps: list[tuple[str, tuple[Step, ...]]] = [
        (unit[0][0], tuple(CreateTable(t) for _, t in unit)) for unit in units
    ]
    # the alters go after the tables they touch
    for name, step in _LATER_ALTERS:
        steps.append((name, (step,)))
    return steps


@cache
def incident_app() -> AppSpec:
    """The seed incident's application: ~185 migrations, 243 tables (+ the tracking table)."""
    early = _early()
    # The current early file creates `priority` (an edit made after production ran it).
    current: list[MigrationSpec] = []
    start = datetime(2019, 8, 19, 0, 0, 0)
    for n, (name, steps) in enumerate(early):
        when = start + timedelta(days=n * 47, seconds=n * 13)
        original = None
        if name == "create_policy_configurations_table":
            original = steps
            created = steps[0]
            assert isinstance(created, CreateTable)
            cols = list(created.table.columns)
            at = [x.name for x in cols].index("is_default") + 1
            cols.insert(at, c("priority", "int", default="999"))
            steps = (CreateTable(replace(created.table, columns=tuple(cols))),)
        current.append(MigrationSpec(f"{when:%Y_%m_%d_%H%M%S}_{name}", steps, original))
    failing = MigrationSpec(
        FAILING_ID,
        (
            AddColumn(
                "policy_configurations", c("priority", "int", default="999", after="is_default")
            ),
            AddIndex("policy_configurations", ("company_id", "priority")),
        ),
    )
    current.append(failing)
    later_start = datetime(2025, 10, 23, 16, 30, 0)
    for n, (name, steps) in enumerate(_later()):
        when = later_start + timedelta(minutes=n * 25)
        current.append(MigrationSpec(f"{when:%Y_%m_%d_%H%M%S}_{name}", steps))
    return AppSpec(
        name="appointments-platform",
        migrations=tuple(current),
        failing=FAILING_ID,
        duplicate=("policy_configurations", "priority"),
    )
