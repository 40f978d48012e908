{#- The largest magnitude a measure may have: 1e15. Doubles hold every integer exactly up to
    9e15, and the exact decimal(38, 10) sums of the marts hold 28 integer digits, so 10 billion
    customers at this bound still add up without overflow. Larger values are rejected in
    staging with this reason, before any mart is written. -#}
{% macro value_bound() -%}
    1e15
{%- endmacro %}
