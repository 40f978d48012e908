{#- Text to double with the input's decimal separator; null when it is not a number. With ","
    a value that also holds a "." (a thousands separator, or a mixed file) is not read: the
    row is rejected rather than read as a different number. -#}
{% macro number_value(text) -%}
    {%- if decimal_separator() == ',' -%}
    case when instr(trim({{ text }}), '.') = 0
        then try_cast(replace(trim({{ text }}), ',', '.') as double)
    end
    {%- else -%}
    try_cast(trim({{ text }}) as double)
    {%- endif -%}
{%- endmacro %}
