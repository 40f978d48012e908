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
