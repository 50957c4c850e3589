#include "gateway/server/transport/deadline.h"

namespace sy::server {

Deadline::Deadline(DeadlineSweeper& sweeper, Socket& socket) : sweeper_(&sweeper), socket_(socket) {
  sweeper_->add(*this);
}

Deadline::~Deadline() {
  if (sweeper_ != nullptr) {
    sweeper_->remove(*this);
  }
}

DeadlineSweeper::DeadlineSweeper(Executor executor) : timer_(std::move(executor)) {}

DeadlineSweeper::~DeadlineSweeper() {
  for (Deadline* deadline = head_; deadline != nullptr;) {
    Deadline* next = deadline->next_;
    deadline->sweeper_ = nullptr;
    deadline->prev_ = deadline->next_ = nullptr;
    deadline = next;
  }
}

void DeadlineSweeper::add(Deadline& deadline) {
  deadline.next_ = head_;
  if (head_ != nullptr) {
    head_->prev_ = &deadline;
  }
  head_ = &deadline;
}

void DeadlineSweeper::remove(Deadline& deadline) {
  if (deadline.prev_ != nullptr) {
    deadline.prev_->next_ = deadline.next_;
  } else {
    head_ = deadline.next_;
  }
  if (deadline.next_ != nullptr) {
    deadline.next_->prev_ = deadline.prev_;
  }
  deadline.prev_ = deadline.next_ = nullptr;
}

void DeadlineSweeper::start() {
  running_ = true;
  scheduleNext();
}

void DeadlineSweeper::stop() {
  running_ = false;
  timer_.cancel();
}

void DeadlineSweeper::scheduleNext() {
  timer_.expires_after(kTick);
  timer_.async_wait([this](const error_code& ec) {
    if (!ec && running_) {
      sweep();
      scheduleNext();
    }
  });
}

void DeadlineSweeper::sweep() {
  const auto now = Deadline::Clock::now();
  for (Deadline* deadline = head_; deadline != nullptr; deadline = deadline->next_) {
    if (deadline->at_ <= now) {
      deadline->at_ = Deadline::Clock::time_point::max();
      deadline->fired_ = true;
      error_code ignored;
      deadline->socket_.cancel(ignored);  // the pending operation completes with an error
    }
  }
}

}  // namespace sy::server
