"""indicator system versions: the quality-supervision indicator system stored as versions
(indicator_sets), configurable from the pages; the default set (derived from the campaign's eight
key tasks, now with the certificate data return rate R3) stored here as version 1, label 2026.1,
published; assessments record the version they were scored against.

The default set is seeded by this migration, not on first use: every database then has the set
its existing scores (set_version 2026.1) refer to before any request runs, and no GET ever
writes. The content is written out here, not imported: a migration keeps meaning what it meant
when it was written, whatever examsys.supervision.indicators.defaults becomes later.

Revision ID: da1fc5ac6a3a
Revises: 28d4e8c64452
Create Date: 2026-12-03 17:28:04.619566

"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import examsys.dbtypes

# revision identifiers, used by Alembic.
revision = 'da1fc5ac6a3a'
down_revision = '28d4e8c64452'
branch_labels = None
depends_on = None

DEFAULT_CONTENT = {'dimensions': [{'key': 'system', 'name': '制度建设'},
                {'key': 'bank', 'name': '题库'},
                {'key': 'site', 'name': '场所设备'},
                {'key': 'staff', 'name': '队伍'},
                {'key': 'process', 'name': '过程管理'},
                {'key': 'results', 'name': '结果与服务'}],
 'indicators': [{'code': 'S1',
                 'dimension': 'system',
                 'name': '评价管理制度健全（考务、保密、回避、申诉）',
                 'weight': 8,
                 'kind': 'entered',
                 'source': None,
                 'direction': None,
                 'full': None,
                 'zero': None,
                 'rule': '查阅制度文本，齐全 100，缺一项扣 25',
                 'evidence': '考务、保密、回避、申诉制度文本',
                 'key_tasks': [1, 5]},
                {'code': 'S2',
                 'dimension': 'system',
                 'name': '评价前备案及时',
                 'weight': 8,
                 'kind': 'computed',
                 'source': 'filing_punctuality',
                 'direction': 'at_least',
                 'full': 1.0,
                 'zero': 0.0,
                 'rule': '按期备案批次占比（考前 5 日以上备案为按期），100% 为满分',
                 'evidence': '系统内批次备案时间与考试时间',
                 'key_tasks': [2, 5]},
                {'code': 'B1',
                 'dimension': 'bank',
                 'name': '题库依据现行国家职业标准建设',
                 'weight': 8,
                 'kind': 'entered',
                 'source': None,
                 'direction': None,
                 'full': None,
                 'zero': None,
                 'rule': '查阅题库与标准版本对应关系，逐项评分',
                 'evidence': '题库与国家职业标准版本对照表',
                 'key_tasks': [3]},
                {'code': 'B2',
                 'dimension': 'bank',
                 'name': '标准变更后题库及时更新',
                 'weight': 6,
                 'kind': 'computed',
                 'source': 'bank_renewed',
                 'direction': 'at_least',
                 'full': 1.0,
                 'zero': 0.0,
                 'rule': '在现行版本标准上组织的批次占比，100% 为满分',
                 'evidence': '系统内批次所用标准版本',
                 'key_tasks': [3]},
                {'code': 'B3',
                 'dimension': 'bank',
                 'name': '理论知识考试线上化',
                 'weight': 8,
                 'kind': 'computed',
                 'source': 'online_theory',
                 'direction': 'at_least',
                 'full': 1.0,
                 'zero': 0.0,
                 'rule': '在本系统线上组织的理论考试批次占比，100% 为满分',
                 'evidence': '系统内批次与试卷记录',
                 'key_tasks': [3, 6]},
                {'code': 'F1',
                 'dimension': 'site',
                 'name': '考场与设备符合要求（视频监控、身份核验）',
                 'weight': 8,
                 'kind': 'entered',
                 'source': None,
                 'direction': None,
                 'full': None,
                 'zero': None,
                 'rule': '现场核查考场、监控与设备，逐项评分',
                 'evidence': '现场核查记录与照片',
                 'key_tasks': [4]},
                {'code': 'T1',
                 'dimension': 'staff',
                 'name': '考评员持证上岗',
                 'weight': 10,
                 'kind': 'computed',
                 'source': 'certified_staff',
                 'direction': 'at_least',
                 'full': 1.0,
                 'zero': 0.0,
                 'rule': '批次考评员持有有效考评员证的占比，100% 为满分',
                 'evidence': '系统内批次考评员及其证书',
                 'key_tasks': [4, 5]},
                {'code': 'T2',
                 'dimension': 'staff',
                 'name': '督导员、考评员队伍建设与培训',
                 'weight': 6,
                 'kind': 'entered',
                 'source': None,
                 'direction': None,
                 'full': None,
                 'zero': None,
                 'rule': '查阅培训记录，逐项评分',
                 'evidence': '培训计划、签到与考核记录',
                 'key_tasks': [4]},
                {'code': 'P1',
                 'dimension': 'process',
                 'name': '抽查发现问题按期整改',
                 'weight': 10,
                 'kind': 'computed',
                 'source': 'findings_on_time',
                 'direction': 'at_least',
                 'full': 1.0,
                 'zero': 0.0,
                 'rule': '按期整改销号的抽查问题占比，100% 为满分',
                 'evidence': '系统内抽查发现与整改记录',
                 'key_tasks': [5, 7]},
                {'code': 'P2',
                 'dimension': 'process',
                 'name': '评价过程记录完整可追溯',
                 'weight': 8,
                 'kind': 'entered',
                 'source': None,
                 'direction': None,
                 'full': None,
                 'zero': None,
                 'rule': '抽查批次过程记录与档案核查，逐项评分',
                 'evidence': '抽查批次的过程记录与档案',
                 'key_tasks': [5, 7]},
                {'code': 'R1',
                 'dimension': 'results',
                 'name': '考生满意度',
                 'weight': 8,
                 'kind': 'computed',
                 'source': 'satisfaction',
                 'direction': 'at_least',
                 'full': 0.9,
                 'zero': 0.0,
                 'rule': '满意度调查中满意及以上的占比，90% 为满分',
                 'evidence': '系统内考后满意度调查与问卷',
                 'key_tasks': [8]},
                {'code': 'R2',
                 'dimension': 'results',
                 'name': '证书信息与数据按时报送',
                 'weight': 6,
                 'kind': 'entered',
                 'source': None,
                 'direction': None,
                 'full': None,
                 'zero': None,
                 'rule': '查阅证书数据报送与回传记录，逐项评分',
                 'evidence': '证书数据报送与回传记录',
                 'key_tasks': [6, 8]},
                {'code': 'R3',
                 'dimension': 'results',
                 'name': '证书数据退回率',
                 'weight': 6,
                 'kind': 'computed',
                 'source': 'return_rate',
                 'direction': 'at_most',
                 'full': 0.05,
                 'zero': 0.2,
                 'rule': '上报证书数据被退回的占比，5% 及以下满分，20% 及以上不得分，其间按比例',
                 'evidence': '系统内证书数据上报与退回登记',
                 'key_tasks': [6, 8]}]}


def upgrade():
    indicator_sets = op.create_table('indicator_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', examsys.dbtypes.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['indicator_sets.id'], name=op.f('fk_indicator_sets_based_on_id_indicator_sets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_indicator_sets_created_by_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_indicator_sets_published_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_sets')),
    sa.UniqueConstraint('label', name=op.f('uq_indicator_sets_label')),
    sa.UniqueConstraint('number', name=op.f('uq_indicator_sets_number'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indicator_set', sa.String(length=16), nullable=True))

    # The version published on 2026-01-01 (Beijing time), which scores already name.
    published = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    op.bulk_insert(indicator_sets, [{
        'id': 1, 'number': 1, 'label': '2026.1', 'status': 'published', 'content': DEFAULT_CONTENT,
        'note': '默认指标体系（由八项重点任务分解）', 'based_on_id': None, 'created_by_id': None,
        'created_at': published, 'published_by_id': None, 'published_at': published, 'version': 1}])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("SELECT setval(pg_get_serial_sequence('indicator_sets', 'id'), 1)")
    # Decided assessments were scored against 2026.1, the only version there was.
    op.execute("UPDATE assessments SET indicator_set = '2026.1' WHERE decision IS NOT NULL")


def downgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_column('indicator_set')

    op.drop_table('indicator_sets')
