{#- The feature set as a table, one row per fit feature in fit order (macro feature_spec): what
    the Python fit standardises, how centroids go back to original units, and how segments are
    named. Lists are stored as text joined by '|'. -#}
{%- set spec = feature_spec() -%}
{%- set rows = [] -%}
{%- for item in spec.numeric -%}
    {%- do rows.append({
        'feature_name': item.name,
        'feature_kind': 'code' if item.code_of else 'numeric',
        'source_feature': item.code_of or item.name,
        'source_column': item.column if not item.code_of else (spec.categorical | selectattr('name', 'equalto', item.code_of) | first).column,
        'label': item.label,
        'transform': item.transform,
        'missing_policy': item.missing,
        'is_summable': item.summable,
        'role': item.role,
        'name_words': (item.name_words or []) | join('|') if item.name_words else none,
        'name_levels': (item.name_levels or []) | join('|') if item.name_levels else none,
        'category_code': none,
        'category_key': none,
    }) -%}
{%- endfor -%}
{%- for name in spec.one_hot_order -%}
    {%- set item = (spec.categorical | selectattr('name', 'equalto', name) | first) -%}
    {%- for row in lookup_rows(ref(item.lookup), item.code_column) -%}
        {%- do rows.append({
            'feature_name': 'is_' ~ item.name ~ '_' ~ row[item.name ~ '_key'],
            'feature_kind': 'one_hot',
            'source_feature': item.name,
            'source_column': item.column,
            'label': row[item.name ~ '_name'],
            'transform': 'none',
            'missing_policy': 'reject',
            'is_summable': false,
            'role': none,
            'name_words': none,
            'name_levels': none,
            'category_code': row[item.code_column],
            'category_key': row[item.name ~ '_key'],
        }) -%}
    {%- endfor -%}
{%- endfor -%}

with

features as (

    {% for row in rows -%}
    select
        {{ loop.index }} as feature_position,
        {{ sql_text(row.feature_name) }} as feature_name,
        {{ sql_text(row.feature_kind) }} as feature_kind,
        {{ sql_text(row.source_feature) }} as source_feature,
        {{ sql_text(row.source_column) }} as source_column,
        {{ sql_text(row.label) }} as feature_label,
        {{ sql_text(row.transform) }} as feature_transform,
        {{ sql_text(row.missing_policy) }} as missing_policy,
        {{ 'true' if row.is_summable else 'false' }} as is_summable,
        {{ sql_text(row.role) }} as feature_role,
        {{ sql_text(row.name_words) }} as name_words,
        {{ sql_text(row.name_levels) }} as name_levels,
        {{ row.category_code if row.category_code is not none else 'cast(null as integer)' }}
            as category_code,
        {{ sql_text(row.category_key) }} as category_key
    {% if not loop.last %}union all
    {% endif -%}
    {%- else -%}
    select
        cast(null as integer) as feature_position,
        cast(null as {{ string_type() }}) as feature_name
    where false
    {%- endfor %}

),

final as (

    select
        features.*,
        {{ sql_text(spec.name_parts | join('|')) }} as name_parts,
        {{ sql_text(spec.name_separator) }} as name_separator,
        {{ sql_text(spec.label) }} as feature_set
    from features

)

select * from final
