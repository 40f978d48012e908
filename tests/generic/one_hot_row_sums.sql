{#-
    one_hot_row_sums: the one-hot columns of a categorical feature hold 0 or 1 and sum to
    exactly 1 in every row (each customer has exactly one region, exactly one channel).

    Arguments
      column_prefix  e.g. "is_region_"; default: every categorical feature of the feature set
                     (macro feature_spec), prefix is_<name>_

    Returns the failing rows with the prefix and their sum; fails too if no column has a prefix.

    Example
      data_tests:
        - one_hot_row_sums
-#}
{% test one_hot_row_sums(model, column_prefix=none) %}

{%- set prefixes = [column_prefix] if column_prefix else [] -%}
{%- if not column_prefix -%}
    {%- for item in feature_spec().categorical -%}
        {%- do prefixes.append('is_' ~ item.name ~ '_') -%}
    {%- endfor -%}
{%- endif -%}
{%- set available = adapter.get_columns_in_relation(model) | map(attribute='name') | list if execute else [] -%}

{%- if prefixes | length == 0 %}

select 'no categorical features' as failure
where false

{%- else %}
{%- for prefix in prefixes %}
{%- set columns = [] -%}
{%- for name in available if name.startswith(prefix) -%}
    {%- do columns.append(adapter.quote(name)) -%}
{%- endfor %}
{%- if columns | length == 0 %}
select 'no column starts with {{ prefix }}' as failure
{%- else %}
select '{{ prefix }}' as failure
from {{ model }}
where
    {{ columns | join(' + ') }} != 1
    {%- for column in columns %}
    or {{ column }} not in (0, 1)
    {%- endfor %}
{%- endif %}
{{ "union all" if not loop.last }}
{%- endfor %}
{%- endif %}

{% endtest %}
