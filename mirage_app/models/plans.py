"""Plans with limits (issue 18): each plan's defaults and each tenant's overrides, in one table."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlmodel import Field, SQLModel

from mirage_app.models.base import id_field, ts_field
from mirage_app.models.enums import TenantPlan, pg_enum


class PlanLimit(SQLModel, table=True):
    """`tenant_id` NULL: the defaults of `plan` (NULL limit = unlimited), the platform operator's to edit. With a
    `tenant_id` (and no plan): that tenant's overrides (NULL limit = the plan's value)."""

    __tablename__ = "plan_limits"
    __table_args__ = (
        sa.CheckConstraint("(tenant_id IS NULL) <> (plan IS NULL)", name="ck_plan_limits_owner"),
        sa.Index("uq_plan_limits_plan", "plan", unique=True, postgresql_where=sa.text("tenant_id IS NULL")),
        sa.Index("uq_plan_limits_tenant", "tenant_id", unique=True, postgresql_where=sa.text("tenant_id IS NOT NULL")),
    )
    id: uuid.UUID = id_field()
    tenant_id: uuid.UUID | None = Field(
        default=None,
        sa_column=sa.Column(UUID(as_uuid=True), sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True),
    )
    plan: TenantPlan | None = Field(default=None, sa_column=sa.Column(pg_enum(TenantPlan, "tenant_plan")))
    numbers: int | None = Field(default=None)
    active_conversations: int | None = Field(default=None)
    contacts: int | None = Field(default=None)
    outreach_per_day: int | None = Field(default=None)
    api_keys: int | None = Field(default=None)
    users: int | None = Field(default=None)
    updated_at: datetime | None = ts_field()
