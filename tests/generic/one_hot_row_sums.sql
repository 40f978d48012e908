{#-
    one_hot_row_sums: the one-hot columns that share a prefix hold 0 or 1 and sum to exactly 1
    in every row (each customer has exactly one region, exactly one channel).

    Arguments
      column_prefix  e.g. "is_region_"

    Returns the failing rows with their sum; fails too if no column has the prefix.

    Example
      data_tests:
        - one_hot_row_sums:
            arguments:
              column_prefix: is_channel_
-#}
{% test one_hot_row_sums(model, column_prefix) %}

{%- set columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- if column.name.startswith(column_prefix) -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif -%}

{%- if columns | length == 0 %}

select 'no column starts with {{ column_prefix }}' as failure

{%- else %}

select
    *,
    {{ columns | join(' + ') }} as one_hot_sum
from {{ model }}
where
    {{ columns | join(' + ') }} != 1
    {%- for column in columns %}
    or {{ column }} not in (0, 1)
    {%- endfor %}

{%- endif %}

{% endtest %}
