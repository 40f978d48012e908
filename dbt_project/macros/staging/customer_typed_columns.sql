{#- The typed select items of a customer input's measure and categorical columns (each
    source key of input_columns but customer_id), for staging's typed CTE: per key,
    <key>_raw as read, is_<key>_blank, and <key>_value, the text as a number (macro
    number_value; null when it is not one). Each item ends with a comma. -#}
{% macro customer_typed_columns() -%}
    {%- for column in input_columns() if column.key != 'customer_id' %}
        {{ column.key }}_raw,
        nullif(trim({{ column.key }}_raw), '') is null as is_{{ column.key }}_blank,
        {{ number_value(column.key ~ '_raw') }} as {{ column.key }}_value,
    {%- endfor %}
{%- endmacro %}
