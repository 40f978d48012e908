{#- The sum of a double that does not depend on the order rows are added in: both engines
    add doubles in parallel, so a plain sum can differ in its last bits between two builds of
    the same data. Summing as decimal(38, 10) is exact (values are rounded to 1e-10 first). -#}
{% macro exact_sum(expression) -%}
    cast(sum(cast({{ expression }} as decimal(38, 10))) as double)
{%- endmacro %}
