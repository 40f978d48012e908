{#-
    feature_spec()

    The feature set this build segments on, checked and with every default filled in. It is
    the one place features are declared (vars `features` / `feature_sets` in dbt_project.yml,
    documented there and in README "Feature configuration"); staging, the feature models, the
    marts and SQL scoring all read it, and int_feature_definitions hands it to the Python fit.

    var `features`: null = the feature set named like the preset; a string = a set from
    `feature_sets`; a mapping = a whole feature set given on the command line.

    Returns a dict:
      input_kind      'customers' | 'transactions'
      numeric         list of dicts: name, column, source_key (lowercased column), label,
                      missing ('reject' | 'zero'), missing_flag, min, transform ('none' |
                      'log1p'), summable, role, name_words, name_levels, code_of (or none)
      categorical     list of dicts: name, column, source_key, lookup, code_column,
                      plural
      one_hot_order   categorical names in fit order
      name_parts      names that make a segment name, name_separator
      measures        the numeric features that are not a categorical's code (reported in the
                      marts in original units)
-#}
{% macro feature_spec() %}
    {%- set sets = var('feature_sets') -%}
    {%- set chosen = var('features', none) -%}
    {%- set preset = var('preset', 'default') or 'default' -%}
    {%- if chosen is none or chosen == '' -%}
        {%- if preset not in sets -%}
            {{ exceptions.raise_compiler_error("var 'preset': no feature set named '" ~ preset ~ "' in var 'feature_sets' (" ~ (sets.keys() | list | join(', ')) ~ ')') }}
        {%- endif -%}
        {%- set raw = sets[preset] -%}
        {%- set label = "feature set '" ~ preset ~ "'" -%}
    {%- elif chosen is string -%}
        {%- if chosen not in sets -%}
            {{ exceptions.raise_compiler_error("var 'features': no feature set named '" ~ chosen ~ "' in var 'feature_sets' (" ~ (sets.keys() | list | join(', ')) ~ ')') }}
        {%- endif -%}
        {%- set raw = sets[chosen] -%}
        {%- set label = "feature set '" ~ chosen ~ "'" -%}
    {%- elif chosen is mapping -%}
        {%- set raw = chosen -%}
        {%- set label = "var 'features'" -%}
    {%- else -%}
        {{ exceptions.raise_compiler_error("var 'features': expected a feature set name or a mapping, got " ~ chosen) }}
    {%- endif -%}

    {%- set input_kind = raw.get('input_kind', 'customers') -%}
    {%- if input_kind not in ['customers', 'transactions'] -%}
        {{ exceptions.raise_compiler_error(label ~ ": input_kind must be customers or transactions, got '" ~ input_kind ~ "'") }}
    {%- endif -%}

    {%- set categorical = [] -%}
    {%- for item in raw.get('categorical') or [] -%}
        {%- if item.get('name') is none or item.get('lookup') is none -%}
            {{ exceptions.raise_compiler_error(label ~ ': every categorical feature needs a name and a lookup seed, got ' ~ item) }}
        {%- endif -%}
        {%- if input_kind == 'transactions' -%}
            {{ exceptions.raise_compiler_error(label ~ ': categorical features are not supported with transaction input') }}
        {%- endif -%}
        {%- set column = item.get('column') or item.name -%}
        {%- do categorical.append({
            'name': item.name,
            'column': column,
            'source_key': column | lower,
            'lookup': item.lookup,
            'code_column': item.name ~ '_code',
            'plural': item.get('plural') or item.name ~ 's',
        }) -%}
    {%- endfor -%}
    {%- set categorical_names = categorical | map(attribute='name') | list -%}

    {%- set rfm_measures = ['recency_days', 'frequency', 'monetary', 'mean_unit_cost'] -%}
    {%- set numeric = [] -%}
    {%- for item in raw.get('numeric') or [] -%}
        {%- set code_of = item.get('code_of') -%}
        {%- if code_of is not none and code_of not in categorical_names -%}
            {{ exceptions.raise_compiler_error(label ~ ": code_of '" ~ code_of ~ "' is not a categorical feature (" ~ (categorical_names | join(', ')) ~ ')') }}
        {%- endif -%}
        {%- set name = (code_of ~ '_code') if code_of else item.get('name') -%}
        {%- if name is none -%}
            {{ exceptions.raise_compiler_error(label ~ ': every numeric feature needs a name, got ' ~ item) }}
        {%- endif -%}
        {%- if input_kind == 'transactions' and name not in rfm_measures -%}
            {{ exceptions.raise_compiler_error(label ~ ": with transaction input the numeric features are aggregates; '" ~ name ~ "' is not one of " ~ (rfm_measures | join(', '))) }}
        {%- endif -%}
        {%- set transform = item.get('transform') or 'none' -%}
        {%- if transform not in ['none', 'log1p'] -%}
            {{ exceptions.raise_compiler_error(label ~ ": feature '" ~ name ~ "': transform must be none or log1p, got '" ~ transform ~ "'") }}
        {%- endif -%}
        {%- set missing = item.get('missing') or 'reject' -%}
        {%- if missing not in ['reject', 'zero'] -%}
            {{ exceptions.raise_compiler_error(label ~ ": feature '" ~ name ~ "': missing must be reject or zero, got '" ~ missing ~ "'") }}
        {%- endif -%}
        {%- set name_levels = item.get('name_levels') -%}
        {%- if name_levels is not none and not (name_levels | length == 2 and 0 < name_levels[1] < name_levels[0] < 1) -%}
            {{ exceptions.raise_compiler_error(label ~ ": feature '" ~ name ~ "': name_levels are [high, low] mean positions of a segment's customers among all customers, 0 < low < high < 1 (default [0.8, 0.2]); got " ~ name_levels) }}
        {%- endif -%}
        {%- set column = item.get('column') or name -%}
        {%- do numeric.append({
            'name': name,
            'column': column,
            'source_key': column | lower,
            'label': item.get('label') or name | replace('_', ' '),
            'missing': missing,
            'missing_flag': (item.get('missing_flag') or name ~ '_was_missing') if missing == 'zero' else none,
            'min': item.get('min') if item.get('min') is not none else (0 if transform == 'log1p' else none),
            'transform': transform,
            'summable': item.get('summable', false) is true,
            'role': item.get('role'),
            'name_words': item.get('name_words'),
            'name_levels': item.get('name_levels'),
            'code_of': code_of,
        }) -%}
    {%- endfor -%}
    {%- if numeric | length == 0 and categorical | length == 0 -%}
        {{ exceptions.raise_compiler_error(label ~ ': no features (numeric and categorical are both empty)') }}
    {%- endif -%}

    {%- set one_hot_order = raw.get('one_hot_order') or categorical_names -%}
    {%- if (one_hot_order | sort | list) != (categorical_names | sort | list) -%}
        {{ exceptions.raise_compiler_error(label ~ ': one_hot_order ' ~ one_hot_order ~ ' must list the categorical features ' ~ categorical_names) }}
    {%- endif -%}

    {{ return({
        'label': label,
        'input_kind': input_kind,
        'numeric': numeric,
        'measures': numeric | rejectattr('code_of') | list,
        'categorical': categorical,
        'one_hot_order': one_hot_order,
        'name_parts': raw.get('name_parts') or ((numeric | rejectattr('code_of') | map(attribute='name') | list) + categorical_names),
        'name_separator': raw.get('name_separator') or ' ',
    }) }}
{% endmacro %}


{#- True when the feature set reports every one of these measures and categorical features
    (the case-study analyses need CLV, minutes, region and channel). Works at parse time, so
    a model can use it in config(enabled=...). -#}
{% macro feature_set_has(names) %}
    {%- set spec = feature_spec() -%}
    {%- set present = (spec.measures | map(attribute='name') | list) + (spec.categorical | map(attribute='name') | list) -%}
    {%- for name in names -%}
        {%- if name not in present -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{% endmacro %}


{#- The per-customer columns of stg_customers after customer_id and source_row_number, in
    order: each measure (original units) with its missing flag, then each categorical code. -#}
{% macro customer_columns() %}
    {%- set spec = feature_spec() -%}
    {%- set columns = [] -%}
    {%- for item in spec.measures -%}
        {%- do columns.append(item.name) -%}
        {%- if item.missing_flag -%}
            {%- do columns.append(item.missing_flag) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for item in spec.categorical -%}
        {%- do columns.append(item.code_column) -%}
    {%- endfor -%}
    {{ return(columns) }}
{% endmacro %}


{#- A Jinja value as a SQL text literal (quotes doubled), or a typed null. -#}
{% macro sql_text(value) -%}
    {%- if value is none -%}cast(null as {{ string_type() }}){%- else -%}'{{ value | string | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}


{#- Measures in report order: summable ones (totals make sense, e.g. CLV, monetary) first,
    then the others, each group in declared order. The Python fit orders fresh segments the
    same way (FeatureSet.segment_sort_columns). -#}
{% macro report_measures() %}
    {%- set spec = feature_spec() -%}
    {{ return((spec.measures | selectattr('summable') | list) + (spec.measures | rejectattr('summable') | list)) }}
{% endmacro %}


{#- The shape of customer_value_summary, from the feature set: dimensions (each categorical
    feature's code and name columns, then the segment's), the grouping sets (overall, each
    dimension, the segment, each pair of categoricals, the segment with each categorical) and
    the SQL that names a row's grouping level and finds the overall row. -#}
{% macro value_summary_plan() %}
    {%- set dimensions = [] -%}
    {%- for item in feature_spec().categorical -%}
        {%- do dimensions.append({'name': item.name, 'columns': [item.code_column, item.name ~ '_name']}) -%}
    {%- endfor -%}
    {%- set segment = {'name': 'segment', 'columns': ['segment_id', 'segment_name']} -%}
    {%- set sets = [[]] -%}
    {%- for dimension in dimensions -%}
        {%- do sets.append([dimension]) -%}
    {%- endfor -%}
    {%- do sets.append([segment]) -%}
    {%- for first in dimensions -%}
        {%- for second in dimensions[loop.index:] -%}
            {%- do sets.append([first, second]) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for dimension in dimensions -%}
        {%- do sets.append([segment, dimension]) -%}
    {%- endfor -%}
    {%- set set_sql = [] -%}
    {%- for group in sets -%}
        {%- do set_sql.append('(' ~ (group | map(attribute='columns') | sum(start=[]) | join(', ')) ~ ')') -%}
    {%- endfor -%}
    {%- set all_dimensions = dimensions + [segment] -%}
    {%- set overall = [] -%}
    {%- for dimension in all_dimensions -%}
        {%- do overall.append('is_all_' ~ dimension.name ~ ' = 1') -%}
    {%- endfor -%}
    {%- set level_parts = [] -%}
    {%- for dimension in [segment] + dimensions -%}
        {%- do level_parts.append("case when grouped.is_all_" ~ dimension.name ~ " = 0 then '" ~ dimension.name ~ "' end") -%}
    {%- endfor -%}
    {{ return({
        'dimensions': all_dimensions,
        'grouping_sets': set_sql | join(',\n        '),
        'level': "coalesce(nullif(concat_ws('_', " ~ (level_parts | join(', ')) ~ "), ''), 'overall')",
        'is_overall': overall | join(' and '),
    }) }}
{% endmacro %}
