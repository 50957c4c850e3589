// The one translation unit that compiles Boost.Asio, Asio.SSL and Beast
// (separate compilation: BOOST_ASIO_SEPARATE_COMPILATION /
// BOOST_BEAST_SEPARATE_COMPILATION are set project-wide), so no other file
// instantiates their non-template code and a clean build stays short.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
