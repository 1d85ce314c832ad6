# Writes a C++ source defining `const char* va::<SYMBOL>()` that returns the contents of INPUT.
file(READ ${INPUT} content)
set(delim "VA_EMBED")
file(WRITE ${OUTPUT} "namespace va { const char* ${SYMBOL}() { return R\"${delim}(${content})${delim}\"; } }\n")
