# -DLIVEHOUSE_SANITIZE=address,undefined applies to everything built in this tree.
if(LIVEHOUSE_SANITIZE)
  add_compile_options(-fsanitize=${LIVEHOUSE_SANITIZE} -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=${LIVEHOUSE_SANITIZE})
endif()
if(LIVEHOUSE_FUZZ)
  # Instrument the codecs for coverage; the fuzz targets add -fsanitize=fuzzer at link.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
