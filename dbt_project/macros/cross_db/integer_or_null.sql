{#- Text to bigint only when it is a whole number ("12", "-3"): try_cast alone rounds "12.7" to
    13 on DuckDB and returns null for "12.0" on Spark. Null otherwise. -#}
{% macro integer_or_null(text) -%}
    case when {{ matches_pattern('trim(' ~ text ~ ')', '[+-]?[0-9]+') }}
        then try_cast(trim({{ text }}) as bigint)
    end
{%- endmacro %}
