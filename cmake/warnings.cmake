# Warnings for livehouse's own targets (not applied to third-party headers).
function(livehouse_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual
                                           -Wimplicit-fallthrough)
  if(LIVEHOUSE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# One library per layer: every .cpp under the layer's folder.
function(livehouse_layer name dir)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  list(FILTER srcs EXCLUDE REGEX ".*/main\\.cpp$")
  add_library(livehouse_${name} STATIC ${srcs})
  target_include_directories(livehouse_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  livehouse_warnings(livehouse_${name})
endfunction()
