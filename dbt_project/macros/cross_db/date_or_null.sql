{#- Text to date only when it is a full ISO date (yyyy-m-d): Spark's cast also accepts "2024"
    and "2024-01". Null otherwise (and for impossible dates such as 2025-02-30). -#}
{% macro date_or_null(text) -%}
    case when {{ matches_pattern('trim(' ~ text ~ ')', '[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}') }}
        then try_cast(trim({{ text }}) as date)
    end
{%- endmacro %}
