"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 19:51:54.470603
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tenants',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('plan', sa.Enum('free', 'pro', 'enterprise', name='tenant_plan'), server_default='free', nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('contacts',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('wa_number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('tags', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('consent_status', sa.Enum('unknown', 'granted', 'revoked', name='consent_status'), server_default='unknown', nullable=False),
    sa.Column('consent_basis', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('consent_source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'wa_number', name='uq_contacts_tenant_number')
    )
    op.create_index(op.f('ix_contacts_tenant_id'), 'contacts', ['tenant_id'], unique=False)
    op.create_table('conversations',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('mode', sa.Enum('pair', 'round_robin', 'random', name='conversation_mode'), server_default='pair', nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('openai_model', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('temperature', sa.Float(), nullable=False),
    sa.Column('topic_strategy', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('topic_refresh_minutes', sa.Integer(), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_conversations_active'), 'conversations', ['active'], unique=False)
    op.create_index(op.f('ix_conversations_next_due_at'), 'conversations', ['next_due_at'], unique=False)
    op.create_index(op.f('ix_conversations_tenant_id'), 'conversations', ['tenant_id'], unique=False)
    op.create_table('personas',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('style', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('greeting_morning', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('greeting_afternoon', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('greeting_evening', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('traits', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('active_hours', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_personas_tenant_id'), 'personas', ['tenant_id'], unique=False)
    op.create_table('settings_tenant',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('min_delay_s', sa.Integer(), nullable=False),
    sa.Column('max_delay_s', sa.Integer(), nullable=False),
    sa.Column('hourly_burst_limit', sa.Integer(), nullable=False),
    sa.Column('quiet_start', sa.Time(), nullable=False),
    sa.Column('quiet_end', sa.Time(), nullable=False),
    sa.Column('humanize', sa.Boolean(), nullable=False),
    sa.Column('allow_bot_to_bot', sa.Boolean(), nullable=False),
    sa.Column('warmup', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id')
    )
    op.create_table('users',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('role', sa.Enum('admin', 'operator', 'viewer', name='user_role'), server_default='operator', nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('mfa_enabled', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('recovery_codes', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_users_tenant_id'), 'users', ['tenant_id'], unique=False)
    op.create_index('uq_users_email_lower', 'users', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('webhook_events',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('event_type', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('wa_ts', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_webhook_events_session_id'), 'webhook_events', ['session_id'], unique=False)
    op.create_index(op.f('ix_webhook_events_tenant_id'), 'webhook_events', ['tenant_id'], unique=False)
    op.create_index('ix_webhook_events_unprocessed', 'webhook_events', ['received_at'], unique=False, postgresql_where=sa.text('processed_at IS NULL'))
    op.create_table('api_keys',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('created_by', sa.UUID(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_index(op.f('ix_api_keys_created_by'), 'api_keys', ['created_by'], unique=False)
    op.create_index(op.f('ix_api_keys_tenant_id'), 'api_keys', ['tenant_id'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('actor_user_id', sa.UUID(), nullable=True),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('entity', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('before', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('after', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_audit_log_action'), 'audit_log', ['action'], unique=False)
    op.create_index(op.f('ix_audit_log_actor_user_id'), 'audit_log', ['actor_user_id'], unique=False)
    op.create_index('ix_audit_log_tenant_at', 'audit_log', ['tenant_id', sa.literal_column('at DESC')], unique=False)
    op.create_index(op.f('ix_audit_log_tenant_id'), 'audit_log', ['tenant_id'], unique=False)
    op.create_table('conversation_schedule',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('day', sa.Enum('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', name='weekday'), server_default='mon', nullable=False),
    sa.Column('morning_enabled', sa.Boolean(), nullable=False),
    sa.Column('morning_start', sa.Time(), nullable=False),
    sa.Column('morning_end', sa.Time(), nullable=False),
    sa.Column('afternoon_enabled', sa.Boolean(), nullable=False),
    sa.Column('afternoon_start', sa.Time(), nullable=False),
    sa.Column('afternoon_end', sa.Time(), nullable=False),
    sa.Column('evening_enabled', sa.Boolean(), nullable=False),
    sa.Column('evening_start', sa.Time(), nullable=False),
    sa.Column('evening_end', sa.Time(), nullable=False),
    sa.Column('max_rounds_per_window', sa.Integer(), nullable=False),
    sa.Column('pause_between_rounds_min', sa.Integer(), nullable=False),
    sa.Column('pause_between_rounds_max', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'day', name='uq_schedule_conversation_day')
    )
    op.create_index(op.f('ix_conversation_schedule_conversation_id'), 'conversation_schedule', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_conversation_schedule_tenant_id'), 'conversation_schedule', ['tenant_id'], unique=False)
    op.create_table('invitations',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('role', sa.Enum('admin', 'operator', 'viewer', name='user_role'), server_default='operator', nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('invited_by', sa.UUID(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['invited_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_invitations_invited_by'), 'invitations', ['invited_by'], unique=False)
    op.create_index(op.f('ix_invitations_tenant_id'), 'invitations', ['tenant_id'], unique=False)
    op.create_table('numbers',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('wa_number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('session_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sa.Enum('disconnected', 'connecting', 'connected', 'error', 'paused', name='number_status'), server_default='disconnected', nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('persona_id', sa.UUID(), nullable=True),
    sa.Column('paired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('disconnect_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('failure_streak', sa.Integer(), nullable=False),
    sa.Column('paused_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('active_days', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['persona_id'], ['personas.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('session_id')
    )
    op.create_index(op.f('ix_numbers_persona_id'), 'numbers', ['persona_id'], unique=False)
    op.create_index(op.f('ix_numbers_status'), 'numbers', ['status'], unique=False)
    op.create_index(op.f('ix_numbers_tenant_id'), 'numbers', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_numbers_wa_number'), 'numbers', ['wa_number'], unique=False)
    op.create_table('settings_conversation',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.Uuid(), nullable=False),
    sa.Column('min_delay_s', sa.Integer(), nullable=True),
    sa.Column('max_delay_s', sa.Integer(), nullable=True),
    sa.Column('hourly_burst_limit', sa.Integer(), nullable=True),
    sa.Column('humanize', sa.Boolean(), nullable=True),
    sa.Column('allow_bot_to_bot', sa.Boolean(), nullable=True),
    sa.Column('guard_no_echo', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id')
    )
    op.create_index(op.f('ix_settings_conversation_tenant_id'), 'settings_conversation', ['tenant_id'], unique=False)
    op.create_table('suppression',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('wa_number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'wa_number', name='uq_suppression_tenant_number')
    )
    op.create_index(op.f('ix_suppression_contact_id'), 'suppression', ['contact_id'], unique=False)
    op.create_index(op.f('ix_suppression_tenant_id'), 'suppression', ['tenant_id'], unique=False)
    op.create_table('topics',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('system_prompt', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('active_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('active_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_topics_conversation_id'), 'topics', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_topics_tenant_id'), 'topics', ['tenant_id'], unique=False)
    op.create_table('user_sessions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('mfa_verified', sa.Boolean(), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_user_sessions_tenant_id'), 'user_sessions', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_user_sessions_user_id'), 'user_sessions', ['user_id'], unique=False)
    op.create_table('conversation_participants',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.Enum('bot', 'human', name='participant_kind'), server_default='bot', nullable=False),
    sa.Column('number_id', sa.UUID(), nullable=True),
    sa.Column('contact_id', sa.UUID(), nullable=True),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('start_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['number_id'], ['numbers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_conversation_participants_contact_id'), 'conversation_participants', ['contact_id'], unique=False)
    op.create_index(op.f('ix_conversation_participants_conversation_id'), 'conversation_participants', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_conversation_participants_number_id'), 'conversation_participants', ['number_id'], unique=False)
    op.create_index(op.f('ix_conversation_participants_tenant_id'), 'conversation_participants', ['tenant_id'], unique=False)
    op.create_table('outreach_policies',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('number_id', sa.UUID(), nullable=False),
    sa.Column('persona_id', sa.UUID(), nullable=True),
    sa.Column('daily_limit', sa.Integer(), nullable=False),
    sa.Column('hourly_limit', sa.Integer(), nullable=False),
    sa.Column('max_rounds_per_contact', sa.Integer(), nullable=False),
    sa.Column('min_gap_minutes', sa.Integer(), nullable=False),
    sa.Column('dayparts', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('allow_days', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('optout_keywords', sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('daily_limit >= 0 AND hourly_limit >= 0 AND hourly_limit <= daily_limit', name='limits'),
    sa.ForeignKeyConstraint(['number_id'], ['numbers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['persona_id'], ['personas.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_outreach_policies_active'), 'outreach_policies', ['active'], unique=False)
    op.create_index(op.f('ix_outreach_policies_number_id'), 'outreach_policies', ['number_id'], unique=False)
    op.create_index(op.f('ix_outreach_policies_persona_id'), 'outreach_policies', ['persona_id'], unique=False)
    op.create_index(op.f('ix_outreach_policies_tenant_id'), 'outreach_policies', ['tenant_id'], unique=False)
    op.create_table('pairings',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('number_a_id', sa.UUID(), nullable=False),
    sa.Column('number_b_id', sa.UUID(), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['number_a_id'], ['numbers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['number_b_id'], ['numbers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_pairings_conversation_id'), 'pairings', ['conversation_id'], unique=False)
    op.create_index(op.f('ix_pairings_number_a_id'), 'pairings', ['number_a_id'], unique=False)
    op.create_index(op.f('ix_pairings_number_b_id'), 'pairings', ['number_b_id'], unique=False)
    op.create_index(op.f('ix_pairings_tenant_id'), 'pairings', ['tenant_id'], unique=False)
    op.create_table('sessions',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('number_id', sa.Uuid(), nullable=False),
    sa.Column('base_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('token_enc', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_qr', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('last_qr_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('webhook_secret_hash', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['number_id'], ['numbers.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number_id')
    )
    op.create_index(op.f('ix_sessions_tenant_id'), 'sessions', ['tenant_id'], unique=False)
    op.create_table('outreach_targets',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('policy_id', sa.UUID(), nullable=False),
    sa.Column('contact_id', sa.UUID(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'in_progress', 'paused', 'done', 'optout', 'failed', name='target_status'), server_default='pending', nullable=False),
    sa.Column('last_contact_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rounds_done', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['outreach_policies.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('policy_id', 'contact_id', name='uq_targets_policy_contact')
    )
    op.create_index(op.f('ix_outreach_targets_contact_id'), 'outreach_targets', ['contact_id'], unique=False)
    op.create_index(op.f('ix_outreach_targets_tenant_id'), 'outreach_targets', ['tenant_id'], unique=False)
    op.create_index('ix_targets_queue', 'outreach_targets', ['policy_id', 'status', sa.literal_column('priority DESC'), 'created_at'], unique=False)
    op.create_table('rounds',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=False),
    sa.Column('pairing_id', sa.UUID(), nullable=True),
    sa.Column('topic_id', sa.UUID(), nullable=True),
    sa.Column('participants', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('planned_turns', sa.Integer(), nullable=False),
    sa.Column('turns_done', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('planned', 'running', 'done', 'aborted', name='round_state'), server_default='planned', nullable=False),
    sa.Column('window_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['topics.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_rounds_conversation_id'), 'rounds', ['conversation_id'], unique=False)
    op.create_index('ix_rounds_conversation_window', 'rounds', ['conversation_id', 'window_key'], unique=False)
    op.create_index(op.f('ix_rounds_pairing_id'), 'rounds', ['pairing_id'], unique=False)
    op.create_index(op.f('ix_rounds_state'), 'rounds', ['state'], unique=False)
    op.create_index(op.f('ix_rounds_tenant_id'), 'rounds', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_rounds_topic_id'), 'rounds', ['topic_id'], unique=False)
    op.create_table('messages',
    sa.Column('id', sa.Uuid(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('conversation_id', sa.UUID(), nullable=True),
    sa.Column('round_id', sa.UUID(), nullable=True),
    sa.Column('from_number_id', sa.UUID(), nullable=True),
    sa.Column('to_number_id', sa.UUID(), nullable=True),
    sa.Column('contact_id', sa.UUID(), nullable=True),
    sa.Column('wa_msg_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('direction', sa.Enum('in', 'out', name='msg_direction'), server_default='out', nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('meta', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('status', sa.Enum('queued', 'sent', 'failed', 'server_ack', 'delivered', 'read', name='message_status'), server_default='queued', nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_number_id'], ['numbers.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['to_number_id'], ['numbers.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('tenant_id', 'wa_msg_id', name='uq_messages_tenant_wa_msg_id')
    )
    op.create_index(op.f('ix_messages_contact_id'), 'messages', ['contact_id'], unique=False)
    op.create_index('ix_messages_conversation_created', 'messages', ['conversation_id', 'created_at'], unique=False)
    op.create_index('ix_messages_from_number_created', 'messages', ['from_number_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_messages_round_id'), 'messages', ['round_id'], unique=False)
    op.create_index('ix_messages_tenant_created', 'messages', ['tenant_id', sa.literal_column('created_at DESC')], unique=False)
    op.create_index(op.f('ix_messages_tenant_id'), 'messages', ['tenant_id'], unique=False)
    op.create_index(op.f('ix_messages_to_number_id'), 'messages', ['to_number_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_messages_to_number_id'), table_name='messages')
    op.drop_index(op.f('ix_messages_tenant_id'), table_name='messages')
    op.drop_index('ix_messages_tenant_created', table_name='messages')
    op.drop_index(op.f('ix_messages_round_id'), table_name='messages')
    op.drop_index('ix_messages_from_number_created', table_name='messages')
    op.drop_index('ix_messages_conversation_created', table_name='messages')
    op.drop_index(op.f('ix_messages_contact_id'), table_name='messages')
    op.drop_table('messages')
    op.drop_index(op.f('ix_rounds_topic_id'), table_name='rounds')
    op.drop_index(op.f('ix_rounds_tenant_id'), table_name='rounds')
    op.drop_index(op.f('ix_rounds_state'), table_name='rounds')
    op.drop_index(op.f('ix_rounds_pairing_id'), table_name='rounds')
    op.drop_index('ix_rounds_conversation_window', table_name='rounds')
    op.drop_index(op.f('ix_rounds_conversation_id'), table_name='rounds')
    op.drop_table('rounds')
    op.drop_index('ix_targets_queue', table_name='outreach_targets')
    op.drop_index(op.f('ix_outreach_targets_tenant_id'), table_name='outreach_targets')
    op.drop_index(op.f('ix_outreach_targets_contact_id'), table_name='outreach_targets')
    op.drop_table('outreach_targets')
    op.drop_index(op.f('ix_sessions_tenant_id'), table_name='sessions')
    op.drop_table('sessions')
    op.drop_index(op.f('ix_pairings_tenant_id'), table_name='pairings')
    op.drop_index(op.f('ix_pairings_number_b_id'), table_name='pairings')
    op.drop_index(op.f('ix_pairings_number_a_id'), table_name='pairings')
    op.drop_index(op.f('ix_pairings_conversation_id'), table_name='pairings')
    op.drop_table('pairings')
    op.drop_index(op.f('ix_outreach_policies_tenant_id'), table_name='outreach_policies')
    op.drop_index(op.f('ix_outreach_policies_persona_id'), table_name='outreach_policies')
    op.drop_index(op.f('ix_outreach_policies_number_id'), table_name='outreach_policies')
    op.drop_index(op.f('ix_outreach_policies_active'), table_name='outreach_policies')
    op.drop_table('outreach_policies')
    op.drop_index(op.f('ix_conversation_participants_tenant_id'), table_name='conversation_participants')
    op.drop_index(op.f('ix_conversation_participants_number_id'), table_name='conversation_participants')
    op.drop_index(op.f('ix_conversation_participants_conversation_id'), table_name='conversation_participants')
    op.drop_index(op.f('ix_conversation_participants_contact_id'), table_name='conversation_participants')
    op.drop_table('conversation_participants')
    op.drop_index(op.f('ix_user_sessions_user_id'), table_name='user_sessions')
    op.drop_index(op.f('ix_user_sessions_tenant_id'), table_name='user_sessions')
    op.drop_table('user_sessions')
    op.drop_index(op.f('ix_topics_tenant_id'), table_name='topics')
    op.drop_index(op.f('ix_topics_conversation_id'), table_name='topics')
    op.drop_table('topics')
    op.drop_index(op.f('ix_suppression_tenant_id'), table_name='suppression')
    op.drop_index(op.f('ix_suppression_contact_id'), table_name='suppression')
    op.drop_table('suppression')
    op.drop_index(op.f('ix_settings_conversation_tenant_id'), table_name='settings_conversation')
    op.drop_table('settings_conversation')
    op.drop_index(op.f('ix_numbers_wa_number'), table_name='numbers')
    op.drop_index(op.f('ix_numbers_tenant_id'), table_name='numbers')
    op.drop_index(op.f('ix_numbers_status'), table_name='numbers')
    op.drop_index(op.f('ix_numbers_persona_id'), table_name='numbers')
    op.drop_table('numbers')
    op.drop_index(op.f('ix_invitations_tenant_id'), table_name='invitations')
    op.drop_index(op.f('ix_invitations_invited_by'), table_name='invitations')
    op.drop_table('invitations')
    op.drop_index(op.f('ix_conversation_schedule_tenant_id'), table_name='conversation_schedule')
    op.drop_index(op.f('ix_conversation_schedule_conversation_id'), table_name='conversation_schedule')
    op.drop_table('conversation_schedule')
    op.drop_index(op.f('ix_audit_log_tenant_id'), table_name='audit_log')
    op.drop_index('ix_audit_log_tenant_at', table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_actor_user_id'), table_name='audit_log')
    op.drop_index(op.f('ix_audit_log_action'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index(op.f('ix_api_keys_tenant_id'), table_name='api_keys')
    op.drop_index(op.f('ix_api_keys_created_by'), table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_index('ix_webhook_events_unprocessed', table_name='webhook_events', postgresql_where=sa.text('processed_at IS NULL'))
    op.drop_index(op.f('ix_webhook_events_tenant_id'), table_name='webhook_events')
    op.drop_index(op.f('ix_webhook_events_session_id'), table_name='webhook_events')
    op.drop_table('webhook_events')
    op.drop_index('uq_users_email_lower', table_name='users')
    op.drop_index(op.f('ix_users_tenant_id'), table_name='users')
    op.drop_table('users')
    op.drop_table('settings_tenant')
    op.drop_index(op.f('ix_personas_tenant_id'), table_name='personas')
    op.drop_table('personas')
    op.drop_index(op.f('ix_conversations_tenant_id'), table_name='conversations')
    op.drop_index(op.f('ix_conversations_next_due_at'), table_name='conversations')
    op.drop_index(op.f('ix_conversations_active'), table_name='conversations')
    op.drop_table('conversations')
    op.drop_index(op.f('ix_contacts_tenant_id'), table_name='contacts')
    op.drop_table('contacts')
    op.drop_table('tenants')
    for enum_name in ('tenant_plan', 'consent_status', 'conversation_mode', 'user_role', 'weekday', 'number_status', 'participant_kind', 'target_status', 'round_state', 'msg_direction', 'message_status'):
        op.execute(f"DROP TYPE IF EXISTS {enum_name}")
