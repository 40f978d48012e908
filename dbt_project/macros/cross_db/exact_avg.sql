{#- The mean of a double, independent of the order rows are added in (see exact_sum). -#}
{% macro exact_avg(expression) -%}
    cast(avg(cast({{ expression }} as decimal(38, 10))) as double)
{%- endmacro %}
