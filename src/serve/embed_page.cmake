# Turns serve/page.html into a C++ source holding it as one string (cmake -DIN=... -DOUT=... -P).
file(READ ${IN} PAGE)
file(WRITE ${OUT} "// Generated from serve/page.html by embed_page.cmake; edit the HTML file.\n"
                  "namespace steper {\nextern const char* const kServePageHtml;\n"
                  "const char* const kServePageHtml = R\"steperpage(${PAGE})steperpage\";\n}\n")
