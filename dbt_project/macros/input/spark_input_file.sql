{#-
    Files read by Spark itself (var input_path on --target spark): the same checks, quarantine
    and messages as on DuckDB, with Spark's readers.

    spark__input_file returns the keys of input_file:
      kind        csv | parquet
      read_sql    Parquet: parquet.`<path>`, numbered by _metadata.row_index (row in the file)
      staged      CSV: the temporary view of the lines Spark parsed, with source_row_number
      errors      CSV: the temporary view of the lines it could not use (source_row_number,
                  parse_reason, raw_line), as DuckDB's reject table gives them
      probe_sql   CSV: the parsed lines without the row number (names and count)
      header_sql  CSV: the first record, read without a header (duplicate-name check)
    spark__check_input_file stops on a missing or empty file and creates those views (Spark
    keeps temporary views for the session dbt's models run in, so the staging model reads them).

    How lines are numbered: a CSV is read with multiLine (one partition per file, records in
    file order), so monotonically_increasing_id() follows the file and the n-th record is data
    line n, file line n + 1, as on DuckDB when every record is one line. Blank lines are
    skipped by Spark's reader and not counted (DuckDB counts them). A record with too few or too
    many fields is kept by Spark's PERMISSIVE mode in a corrupt-record column; such a line, or
    one whose text holds a U+FFFD replacement character or a NUL (bytes that are not valid in
    the encoding read), becomes a parse error, "line <n>: missing columns (...)", "too many
    columns (...)" or "invalid encoding (...)": DuckDB's reason classes in Spark's own words.
-#}
{% macro spark__input_file(input_path, var_prefix='input') %}
    {%- set path_sql = "'" ~ (input_path | string | replace("'", "''")) ~ "'" -%}
    {%- set label = var_prefix ~ '_path ' ~ path_sql -%}
    {{ check_file_name(input_path, label) }}
    {%- set lowered = input_path | string | lower -%}
    {%- set path_identifier = '`' ~ (input_path | string | replace('`', '``')) ~ '`' -%}
    {%- if lowered.endswith('.parquet') or lowered.endswith('.pq') -%}
        {{ return({
            'kind': 'parquet', 'path': input_path, 'path_sql': path_sql, 'label': label,
            'path_identifier': path_identifier, 'listing': var_prefix ~ '_file_listing',
            'read_sql': 'parquet.' ~ path_identifier,
            'row_number': '_metadata.row_index + 1',
        }) }}
    {%- endif -%}
    {%- set staged = var_prefix ~ '_file' -%}
    {{ return({
        'kind': 'csv', 'path': input_path, 'path_sql': path_sql, 'label': label,
        'path_identifier': path_identifier, 'listing': staged ~ '_listing',
        'staged': staged, 'errors': staged ~ '_errors', 'probe_sql': staged ~ '_probe',
        'header_sql': staged ~ '_header', 'read': staged ~ '_read',
    }) }}
{% endmacro %}


{#- Hadoop reads a brace or a backslash in a path as a pattern: refused like * ? [ . -#}
{% macro spark__check_files_readable(input_path, var_prefix) %}
    {%- for character in ['{', '}', '\\'] -%}
        {%- if character in input_path | string -%}
            {{ exceptions.raise_compiler_error(var_prefix ~ "_path '" ~ input_path ~ "': the file name contains '" ~ character ~ "', which Spark reads as a pattern; rename the file") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{#- Stops on a missing or empty file. Spark SQL cannot test for a file without failing, so the
    file's folder is listed (binaryFile with the file name as its only glob filter; the name
    holds no pattern character, check_file_name refuses them): no row is DuckDB's "file not
    found", said with "or empty", because Spark lists no 0-byte file (DuckDB tells the two
    apart). A folder that does not exist stops with Spark's own line ("[PATH_NOT_FOUND] Path
    does not exist: file:<folder>"). Only names are read, never the contents. -#}
{% macro spark__check_input_file(file, label) %}
    {%- set path = file.path | string -%}
    {%- set cut = path.rfind('/') -%}
    {%- set folder = '.' if cut < 0 else (path[:cut] or '/') -%}
    {%- set name = path[cut + 1:] -%}
    {%- set listing = file.listing -%}
    {%- do run_query(
        'create or replace temporary view ' ~ listing ~ ' using binaryFile options (path '
        ~ sql_text(folder) ~ ', pathGlobFilter ' ~ sql_text(name) ~ ')'
    ) -%}
    {%- set found = run_query('select count(*) from ' ~ listing).rows[0] -%}
    {%- if found[0] == 0 -%}
        {{ exceptions.raise_compiler_error(label ~ ': file not found (relative paths start at the repository root), or empty (0 bytes: Spark lists no empty file)') }}
    {%- endif -%}
    {%- if file.kind == 'csv' -%}
        {{ spark_csv_views(file, label) }}
    {%- endif -%}
{% endmacro %}


{#- The CSV options for Spark's reader from vars input_encoding and input_delimiter (auto:
    the most frequent of , ; | and tab in the first line, comma on a tie). -#}
{% macro spark_csv_options(file, header) %}
    {%- set encoding = {'utf-8': 'UTF-8', 'latin-1': 'ISO-8859-1', 'utf-16': 'UTF-16'}[csv_encoding()] -%}
    {%- set options = {
        'path': file.path_sql, 'header': "'" ~ header ~ "'", 'multiLine': "'true'",
        'encoding': "'" ~ encoding ~ "'", 'mode': "'PERMISSIVE'",
    } -%}
    {%- if file.delimiter is defined -%}
        {%- do options.update({'sep': "'" ~ file.delimiter ~ "'"}) -%}
    {%- endif -%}
    {%- set items = [] -%}
    {%- for key, value in options.items() -%}
        {%- do items.append(key ~ ' ' ~ value) -%}
    {%- endfor -%}
    {{ return(items | join(', ')) }}
{% endmacro %}


{% macro spark_csv_delimiter(file) %}
    {%- set chosen = csv_delimiter() -%}
    {%- if chosen is not none -%}
        {{ return(chosen) }}
    {%- endif -%}
    {%- set probe = file.staged ~ '_first_line' -%}
    {%- set first_line = {'path_sql': file.path_sql, 'delimiter': '\u0001'} -%}
    {%- call statement('first_line') -%}
        create or replace temporary view {{ probe }}
        using csv options ({{ spark_csv_options(first_line, 'false') }}, quote '\u0000')
    {%- endcall -%}
    {%- set line = (run_query('select * from ' ~ probe ~ ' limit 1').rows[0][0] or '') | string -%}
    {%- set best = namespace(delimiter=',', count=line.count(',')) -%}
    {%- for candidate in [';', '|', '\t'] -%}
        {%- if line.count(candidate) > best.count -%}
            {%- set best.delimiter, best.count = candidate, line.count(candidate) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(best.delimiter) }}
{% endmacro %}


{#- The temporary views a CSV is read into (see the top of this file): header, read (every
    column as string plus the corrupt record), numbered, the staged lines, errors, probe. -#}
{% macro spark_csv_views(file, label) %}
    {%- do file.update({'delimiter': spark_csv_delimiter(file)}) -%}
    {%- set delimiter_sql = file.delimiter | replace("'", "\\'") -%}
    {%- call statement('csv_header') -%}
        create or replace temporary view {{ file.header_sql }}
        using csv options ({{ spark_csv_options(file, 'false') }})
    {%- endcall -%}
    {{ check_header_unique(file, label) }}
    {%- set header = run_query('select * from ' ~ file.header_sql ~ ' limit 1') -%}
    {%- set names = [] -%}
    {%- for value in header.rows[0] -%}
        {%- do names.append((value if value is not none else '_c' ~ loop.index0) | string) -%}
    {%- endfor -%}
    {%- set quoted = [] -%}
    {%- for name in names -%}
        {%- do quoted.append('`' ~ (name | replace('`', '``')) ~ '`') -%}
    {%- endfor -%}
    {%- set width = names | length -%}
    {%- call statement('csv_read') -%}
        create or replace temporary view {{ file.read }} (
            {%- for column in quoted %}
            {{ column }} string,
            {%- endfor %}
            _corrupt_record string
        )
        using csv options ({{ spark_csv_options(file, 'true') }}, columnNameOfCorruptRecord '_corrupt_record')
    {%- endcall -%}
    {%- call statement('csv_numbered') -%}
        create or replace temporary view {{ file.staged }}_numbered as
        with

        numbered as (

            select
                {# bigint, as DuckDB's row numbers and the contracts have it (Spark's is int) #}
                cast(row_number() over (order by monotonically_increasing_id()) as bigint) as source_row_number,
                *,
                concat_ws('{{ delimiter_sql }}', {% for column in quoted %}coalesce({{ column }}, ''){{ ', ' if not loop.last }}{% endfor %}) as joined_values
            from {{ file.read }}

        ),

        classified as (

            select
                *,
                case
                    when instr(coalesce(_corrupt_record, joined_values), '\uFFFD') > 0
                        or instr(coalesce(_corrupt_record, joined_values), chr(0)) > 0
                        then 'invalid encoding (bytes that are not ' || '{{ csv_encoding() }}' || ')'
                    when _corrupt_record is not null then
                        case
                            when field_count < {{ width }} then 'missing columns'
                            else 'too many columns'
                        end
                        || ' (expected {{ width }} fields, found ' || field_count || ')'
                end as problem
            from (
                select
                    *,
                    {#- Fields of a corrupt record: delimiters outside quoted values, plus one. -#}
                    size(split(
                        regexp_replace(_corrupt_record, '"[^"]*"', ''), '[{{ delimiter_sql }}]'
                    )) as field_count
                from numbered
            ) as counted

        )

        select * from classified
    {%- endcall -%}
    {%- call statement('csv_staged') -%}
        create or replace temporary view {{ file.staged }} as
        select
            source_row_number,
            {{ quoted | join(', ') }}
        from {{ file.staged }}_numbered
        where problem is null
    {%- endcall -%}
    {%- call statement('csv_errors') -%}
        create or replace temporary view {{ file.errors }} as
        select
            source_row_number,
            'line ' || (source_row_number + 1) || ': ' || problem as parse_reason,
            coalesce(_corrupt_record, joined_values) as raw_line
        from {{ file.staged }}_numbered
        where problem is not null
    {%- endcall -%}
    {%- call statement('csv_probe') -%}
        create or replace temporary view {{ file.probe_sql }} as
        select {{ quoted | join(', ') }} from {{ file.staged }}
    {%- endcall -%}
{% endmacro %}


{#- Called when no CSV line parsed: every line was rejected. -#}
{% macro spark__check_some_line_read(file, label) %}
    {%- set failed = run_query(
        "select count(*), min(regexp_extract(parse_reason, '^line [0-9]+: ([a-z ]+)', 1)) from " ~ file.errors
    ).rows[0] -%}
    {%- if failed[0] > 0 -%}
        {%- set error = failed[1] | trim -%}
        {%- set utf16 = run_query(
            "select hex(substr(content, 1, 2)) in ('FFFE', 'FEFF') from binaryFile." ~ file.path_identifier
        ).columns[0].values()[0] -%}
        {%- set hint = ': the file starts with a UTF-16 byte order mark; set input_encoding: utf-16' if utf16 else reject_hint(error, '') -%}
        {{ exceptions.raise_compiler_error(label ~ ': no line could be read: Spark rejected all ' ~ failed[0] ~ ' lines (' ~ error ~ ')' ~ hint) }}
    {%- endif -%}
{% endmacro %}
